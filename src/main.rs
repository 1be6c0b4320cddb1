use std::io::Read;
use std::process::ExitCode;

use clap::Parser;

use accessline::cli::{Cli, Command};
use accessline::domain::Definitions;

/// Exit code for bad input (a file, an argument): nothing was changed.
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let defs = match Definitions::builtin() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("accessline: clinical definitions are broken: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Some(Command::Assess { file }) => assess(&defs, &file),
        Some(Command::Definitions) => {
            for (id, version) in defs.versions() {
                println!("{id}\t{version}");
            }
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "accessline: the screener TUI is not built yet; try `accessline assess examples/routine_mild.json`"
            );
            ExitCode::from(BAD_INPUT)
        }
    }
}

fn assess(defs: &Definitions, file: &str) -> ExitCode {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(file)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("accessline assess: cannot read {file}: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    match accessline::domain::assess::assess_json(defs, &text) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("accessline assess: {e}");
            ExitCode::from(BAD_INPUT)
        }
    }
}
