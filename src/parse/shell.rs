//! Shell prompts in pasted sessions: the command a line runs and the host its prompt names
//! (`user@host:~$ df -h`, `[user@host dir]$ ulimit -n`, `root@host:~# ...`).

/// A command line of a pasted session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine<'a> {
    /// The host the prompt names, when it has the `user@host` form.
    pub host: Option<String>,
    /// The command after the prompt (or the whole line when there is none).
    pub command: &'a str,
}

/// Characters that end a shell prompt.
const PROMPT_ENDS: &[char] = &['$', '#', '>', '%', '~'];

/// The command a line runs when it starts with one of `programs` (a word), bare or after a
/// prompt; `None` for other lines. `sudo` before the program is accepted.
pub fn command_line<'a>(line: &'a str, programs: &[&str]) -> Option<CommandLine<'a>> {
    let t = line.trim();
    // Long lines are output, not commands someone typed.
    if t.len() > 400 {
        return None;
    }
    if starts_with_program(t, programs) {
        return Some(CommandLine {
            host: None,
            command: t,
        });
    }
    for (i, c) in t.char_indices() {
        if !PROMPT_ENDS.contains(&c) {
            continue;
        }
        let rest = t[i + c.len_utf8()..].trim_start();
        if starts_with_program(rest, programs) {
            return Some(CommandLine {
                host: prompt_host(&t[..i]),
                command: rest,
            });
        }
    }
    None
}

fn starts_with_program(s: &str, programs: &[&str]) -> bool {
    let s = s.strip_prefix("sudo ").map_or(s, str::trim_start);
    programs.iter().any(|p| {
        s.strip_prefix(p)
            .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
    })
}

/// `user@host:path` or `[user@host dir]` → `host`.
fn prompt_host(prompt: &str) -> Option<String> {
    let at = prompt.find('@')?;
    let host: String = prompt[at + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_and_hosts() {
        let c = command_line("vagrant@vagrant:~$ ulimit -n", &["ulimit"]);
        assert_eq!(c.as_ref().and_then(|c| c.host.as_deref()), Some("vagrant"));
        assert_eq!(c.map(|c| c.command), Some("ulimit -n"));
        let c = command_line("[centos.nxb@centos tmp]$ df -T", &["df"]);
        assert_eq!(c.and_then(|c| c.host), Some("centos".into()));
        let c = command_line("root@oxz_cockroachdb_3237a532:~# df -h /var", &["df"]);
        assert_eq!(
            c.and_then(|c| c.host),
            Some("oxz_cockroachdb_3237a532".into())
        );
        assert_eq!(
            command_line("~ulimit -a", &["ulimit"]).map(|c| c.command),
            Some("ulimit -a")
        );
        assert_eq!(
            command_line("$  df -h", &["df"]).map(|c| c.command),
            Some("df -h")
        );
        assert!(command_line("dfx -h", &["df"]).is_none());
        assert!(command_line("the df command", &["df"]).is_none());
    }
}
