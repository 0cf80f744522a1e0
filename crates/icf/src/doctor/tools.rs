//! ffmpeg and ffprobe, which video uploads and covers need.

use std::time::Duration;

use super::report::Check;

pub(super) async fn tools() -> Vec<Check> {
    let mut checks = Vec::new();
    for (name, tool) in [("ffmpeg", "ffmpeg"), ("ffprobe", "ffprobe")] {
        let out = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::process::Command::new(tool)
                .arg("-version")
                .stdin(std::process::Stdio::null())
                .output(),
        )
        .await;
        checks.push(match out {
            Ok(Ok(out)) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                let version = text
                    .split_whitespace()
                    .nth(2)
                    .unwrap_or("(unknown version)")
                    .to_owned();
                Check::ok(name, format!("{tool} {version}"))
            }
            Ok(Ok(out)) => Check::fail(
                name,
                format!("`{tool} -version` exited with {}", out.status),
                "reinstall it: `apt-get install ffmpeg`",
            ),
            Ok(Err(e)) => Check::fail(
                name,
                format!("cannot run {tool}: {e}"),
                "install it (`apt-get install ffmpeg`) so that it is on icf's PATH; video \
                 uploads and covers need it",
            ),
            Err(_) => Check::fail(
                name,
                format!("`{tool} -version` did not answer within 10 s"),
                "reinstall it: `apt-get install ffmpeg`",
            ),
        });
    }
    checks
}
