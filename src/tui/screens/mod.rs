//! One file per screen. Each `render` only reads the state.

pub mod crisis;
pub mod dashboard;
pub mod help;
pub mod home;
pub mod intake;
pub mod lock;
pub mod notices;
pub mod placement;
pub mod questions;
pub mod queue;
pub mod record;
pub mod referral;
pub mod scores;
pub mod summary;
