//! The supervisor's dashboard: its period and figures, and its keys.

use super::*;

/// The dashboard's period and figures.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardView {
    pub range: DateRange,
    pub data: Option<crate::store::Dashboard>,
}

pub fn open_dashboard(app: &mut App) -> Vec<Effect> {
    app.screen = Screen::Dashboard;
    let range = app.dashboard.as_ref().map_or(DateRange::Month, |d| d.range);
    app.dashboard = Some(DashboardView { range, data: None });
    load_dashboard(app)
}

fn load_dashboard(app: &mut App) -> Vec<Effect> {
    let range = app.dashboard.as_ref().map_or(DateRange::Month, |d| d.range);
    let from = range.since(app.now).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    vec![Effect::LoadDashboard {
        from,
        before: app.now + Duration::days(1),
        now: app.now,
    }]
}

pub fn dashboard_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::CycleDates => {
            if let Some(d) = app.dashboard.as_mut() {
                d.range = d.range.next();
                d.data = None;
            }
            load_dashboard(app)
        }
        Command::Refresh => load_dashboard(app),
        Command::ExportReports => {
            let range = app.dashboard.as_ref().map_or(DateRange::Month, |d| d.range);
            let to = county_time(app.now).date_naive();
            let from = range.since(app.now).map_or(
                chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid"),
                |t| county_time(t).date_naive(),
            );
            app.set_status(Level::Info, "Writing the reports…");
            vec![Effect::WriteReports {
                from,
                to,
                as_of: app.now,
            }]
        }
        Command::Cancel => {
            app.screen = Screen::Queue;
            if app.queue.is_none() {
                return open_queue(app);
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}
