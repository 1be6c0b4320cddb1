use std::process::ExitCode;

use clap::Parser;

use accessline::cli::{Cli, Command};
use accessline::commands;
use accessline::domain::Definitions;

// The clinical logic and the demo generator allocate many small strings and maps; mimalloc
// makes that about a quarter cheaper than glibc's allocator (docs/benchmarks.md, demo).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Some(Command::Assess { file }) => commands::assess(&defs, &file),
        Some(Command::Definitions) => {
            for (id, version) in defs.versions() {
                println!("{id}\t{version}");
            }
            ExitCode::SUCCESS
        }
        Some(Command::Demo { encounters, seed }) => commands::demo(cli.db, &defs, encounters, seed),
        Some(Command::Report { report }) => commands::report(cli.db, &defs, report),
        Some(Command::Verify) => commands::verify(cli.db),
        Some(Command::SaveLoop { limit }) => commands::save_loop(cli.db, limit),
        Some(Command::Review) => commands::tui(cli.db, cli.keymap, defs, true),
        Some(Command::Export(args)) => commands::export(cli.db, &defs, args),
        Some(Command::Import {
            files,
            identity,
            receipts,
        }) => commands::import(cli.db, &files, identity, receipts),
        Some(Command::Keys { keys }) => commands::keys(keys),
        Some(Command::Sync { sync }) => commands::sync(cli.db, sync),
        None => commands::tui(cli.db, cli.keymap, defs, false),
    }
}
