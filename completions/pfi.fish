# fish completion for pfi(1): commands, global and per-command options, the
# value sets of --format and --color, and files for index paths and --db.
# Keep the lists in step with cmd/pfi.c and cmd/*.c; tests/test_docs.c
# fails when an option that `pfi CMD --help` prints is missing here: it
# reads the pfi_commands list, the "-a CMD -d" lines, and the "-l OPTION"
# lines guarded by "__fish_seen_subcommand_from CMD".

set -l pfi_commands index trace search info stats prune metrics help

complete -c pfi -f

# Commands, offered until one is given.
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a index -d 'Read Postfix logs into the index'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a trace -d 'Show the life of messages by queue ID or Message-ID'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a search -d 'List recipient deliveries that match filters'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a info -d 'Show what the index holds'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a prune -d 'Remove what ended before a time and reclaim space'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a metrics -d 'Print or serve Prometheus metrics from the index'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a stats -d 'Show delivery health: counts, rates, delays, rejects'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a help -d 'Show help for pfi or one of its commands'

# Global options, before or after the command.
complete -c pfi -l db -r -F -d 'Use the index at PATH'
complete -c pfi -l format -x -a 'table json ndjson csv tsv' -d 'Output format'
complete -c pfi -l json -d 'The same as --format json'
complete -c pfi -l color -x -a 'auto always never' -d 'Colour the table output'
complete -c pfi -l utc -d 'Print times in UTC'
complete -c pfi -l csv-raw -d "CSV/TSV: no leading ' on cells that look like formulas"
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -l version -d 'Print the version and exit'
complete -c pfi -s h -l help -d 'Print the usage and exit'

# pfi index [--follow] [--quiet] [--queue-lifetime DURATION] [--max-open N] [PATH|-]...
complete -c pfi -n '__fish_seen_subcommand_from index' -F
complete -c pfi -n '__fish_seen_subcommand_from index' -s f -l follow -d 'Keep indexing what the files gain'
complete -c pfi -n '__fish_seen_subcommand_from index' -s q -l quiet -d 'Show no progress and no summary'
complete -c pfi -n '__fish_seen_subcommand_from index' -l queue-lifetime -x -d 'Close messages silent this long plus two days'
complete -c pfi -n '__fish_seen_subcommand_from index' -l max-open -x -d 'Keep at most N messages open between runs'

# pfi trace [--raw] ID...
complete -c pfi -n '__fish_seen_subcommand_from trace' -l raw -d 'Print only the raw log lines'

# pfi prune --before T
complete -c pfi -n '__fish_seen_subcommand_from prune' -s b -l before -r -d 'Remove what ended before this time'

# pfi info [--unparsed]
complete -c pfi -n '__fish_seen_subcommand_from info' -l unparsed -d 'List the lines pfi did not understand'

# pfi search [FILTERS] [--limit N] [--reverse] [--count]
complete -c pfi -n '__fish_seen_subcommand_from search' -l from -x -d 'Envelope sender (<> for the null sender)'
complete -c pfi -n '__fish_seen_subcommand_from search' -l to -x -d 'Recipient, as delivered or addressed'
complete -c pfi -n '__fish_seen_subcommand_from search' -l domain -x -d 'Recipient domain (*.DOMAIN adds subdomains)'
complete -c pfi -n '__fish_seen_subcommand_from search' -l sender-domain -x -d 'Sender domain'
complete -c pfi -n '__fish_seen_subcommand_from search' -l subject -x -d 'Subject contains TEXT'
complete -c pfi -n '__fish_seen_subcommand_from search' -l status -x -a 'sent deferred bounced expired rejected discarded held deleted filtered unknown' -d 'Outcome (repeat or comma list)'
complete -c pfi -n '__fish_seen_subcommand_from search' -l dsn -x -d 'DSN code or pattern (5.1.1, 5.1.*, 5.*)'
complete -c pfi -n '__fish_seen_subcommand_from search' -l client -x -d 'Client address, host name or CIDR network'
complete -c pfi -n '__fish_seen_subcommand_from search' -l relay -x -d 'Next hop host name or address'
complete -c pfi -n '__fish_seen_subcommand_from search' -l host -x -d 'Mail server that logged it'
complete -c pfi -n '__fish_seen_subcommand_from search' -l message-id -x -d 'Message-ID'
complete -c pfi -n '__fish_seen_subcommand_from search' -l sasl-user -x -d 'SASL login of the sender'
complete -c pfi -n '__fish_seen_subcommand_from search' -l since -x -d 'At or after this time'
complete -c pfi -n '__fish_seen_subcommand_from search' -l until -x -d 'Before this time'
complete -c pfi -n '__fish_seen_subcommand_from search' -l grep -x -d 'PCRE2 regex over the raw log lines'
complete -c pfi -n '__fish_seen_subcommand_from search' -l limit -x -d 'At most N rows'
complete -c pfi -n '__fish_seen_subcommand_from search' -l reverse -d 'Oldest first'
complete -c pfi -n '__fish_seen_subcommand_from search' -l count -d 'Print only the number of rows'

# pfi help [COMMAND]
complete -c pfi -n '__fish_seen_subcommand_from help' -a "$pfi_commands"

# pfi stats [FILTERS] [--by KEY] [--top N] [--sla DURATION] [--compare PERIOD]
complete -c pfi -n '__fish_seen_subcommand_from stats' -l from -x -d 'Envelope sender (<> for the null sender)'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l to -x -d 'Recipient, as delivered or addressed'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l domain -x -d 'Recipient domain (*.DOMAIN adds subdomains)'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l sender-domain -x -d 'Sender domain'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l subject -x -d 'Subject contains TEXT'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l status -x -a 'sent deferred bounced expired rejected discarded held deleted filtered unknown' -d 'Outcome (repeat or comma list)'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l dsn -x -d 'DSN code or pattern (5.1.1, 5.1.*, 5.*)'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l client -x -d 'Client address, host name or CIDR network'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l relay -x -d 'Next hop host name or address'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l host -x -d 'Mail server that logged it'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l message-id -x -d 'Message-ID'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l sasl-user -x -d 'SASL login of the sender'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l since -x -d 'Start of the period'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l until -x -d 'End of the period (excluded)'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l grep -x -d 'PCRE2 regex over the raw log lines'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l by -x -a 'day hour domain sender-domain dsn status host client' -d 'One row per group'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l top -x -d 'Length of the top lists and of --by rows'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l sla -x -d 'SLA threshold (default 5m)'
complete -c pfi -n '__fish_seen_subcommand_from stats' -l compare -x -a '1h 1d 1w' -d 'Also the period PERIOD earlier and the change'

# pfi metrics [--listen[=ADDR:PORT]] [--output FILE] [--top N] [--follow [PATH]...]
complete -c pfi -n '__fish_seen_subcommand_from metrics' -l listen -d 'Serve /metrics on ADDR:PORT (default 127.0.0.1:9154)'
complete -c pfi -n '__fish_seen_subcommand_from metrics' -s o -l output -r -F -d 'Write the metrics to FILE atomically'
complete -c pfi -n '__fish_seen_subcommand_from metrics' -s f -l follow -d 'Index the logs as they grow, in this process'
complete -c pfi -n '__fish_seen_subcommand_from metrics' -l top -x -d 'Recipient domains with series of their own'
