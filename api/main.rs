use std::process::ExitCode;

use clap::Parser;
use eid_adoption::cli::{self, Cli};
use eid_adoption::config::{LogFormat, Settings};
use eid_adoption::telemetry;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            telemetry::init(LogFormat::Text);
            tracing::error!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    if let Err(error) = eid_adoption::clock::install(settings.clock) {
        tracing::error!("{error}");
        return ExitCode::from(2);
    }
    for warning in &settings.startup_warnings {
        tracing::warn!("{warning}");
    }
    match cli::run(cli, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}
