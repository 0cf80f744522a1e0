use clap::Parser;
use icf::cli::{Cli, run};
use icf::config::Settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) if matches!(cli.command, icf::cli::Command::Doctor) => {
            icf::doctor::print(&[icf::doctor::config_failure(&e)]);
            return std::process::ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("icf: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _sentry = icf::telemetry::init(
        settings.telemetry.log_format,
        settings
            .telemetry
            .sentry_dsn
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret),
    );
    match run(cli, settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("icf: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
