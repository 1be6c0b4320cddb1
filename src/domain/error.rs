//! Errors of the clinical layer: broken definitions and bad encounter input.

use thiserror::Error;

/// A shipped or supplied definition file is unusable. Always names the file and the field.
#[derive(Debug, Error, PartialEq)]
pub enum DefinitionError {
    #[error("{file}: not valid JSON for this definition: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: field `{field}`: {problem}")]
    Invalid {
        file: String,
        field: String,
        problem: String,
    },
    #[error("{file}: id `{id}` is defined twice")]
    DuplicateId { file: String, id: String },
    #[error("{file}: cannot be read: {message}")]
    Io { file: String, message: String },
}

impl DefinitionError {
    pub fn invalid(file: &str, field: impl Into<String>, problem: impl Into<String>) -> Self {
        DefinitionError::Invalid {
            file: file.to_owned(),
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Encounter input that cannot be assessed. The message is one line for the person who wrote it.
#[derive(Debug, Error, PartialEq, Eq, Clone)]
pub enum InputError {
    #[error("input is not valid JSON: {0}")]
    Json(String),
    #[error("{path}: {problem}")]
    Field { path: String, problem: String },
}

impl InputError {
    pub fn field(path: impl Into<String>, problem: impl Into<String>) -> Self {
        InputError::Field {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
