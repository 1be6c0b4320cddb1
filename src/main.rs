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
    let (db, user) = (cli.db, cli.user);
    let lock_after = chrono::TimeDelta::minutes(i64::from(cli.lock_after));
    match cli.command {
        Some(Command::Assess { file }) => commands::assess(&defs, &file),
        Some(Command::Definitions) => {
            for (id, version) in defs.versions() {
                println!("{id}\t{version}");
            }
            ExitCode::SUCCESS
        }
        Some(Command::Demo { encounters, seed }) => {
            commands::demo(db, user, &defs, encounters, seed)
        }
        Some(Command::Report { report }) => commands::report(db, user, &defs, report),
        Some(Command::Verify) => commands::verify(db, user),
        Some(Command::SaveLoop { limit }) => commands::save_loop(db, user, limit),
        Some(Command::Review) => commands::tui(db, user, cli.keymap, defs, true, lock_after),
        Some(Command::Export(args)) => commands::export(db, user, &defs, args),
        Some(Command::Import {
            files,
            identity,
            receipts,
        }) => commands::import(db, user, &files, identity, receipts),
        Some(Command::Keys { keys }) => commands::keys(keys),
        Some(Command::Sync { sync }) => commands::sync(db, user, sync),
        Some(Command::Users { users }) => commands::users::run(db, user, users),
        Some(Command::Audit { from, to, by }) => commands::audit::run(db, user, &from, &to, by),
        None => commands::tui(db, user, cli.keymap, defs, false, lock_after),
    }
}
