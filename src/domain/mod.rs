//! Pure clinical logic: definitions as data, scoring, placement, timeliness, directory.
//! No terminal, no database, no clock: everything it needs comes in as arguments.

pub mod assess;
pub mod catalog;
pub mod clock;
pub mod condition;
pub mod directory;
pub mod error;
pub mod instrument;
pub mod outcome;
pub mod placement;
pub mod quadrant;
pub mod scoring;
pub mod timeliness;

pub use catalog::Definitions;
pub use error::{DefinitionError, InputError};
