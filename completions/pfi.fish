# fish completion for pfi(1): commands, global and per-command options, the
# value sets of --format and --color, and files for index paths and --db.
# Keep the lists in step with cmd/pfi.c and cmd/*.c; tests/test_docs.c
# fails when an option that `pfi CMD --help` prints is missing here: it
# reads the pfi_commands list, the "-a CMD -d" lines, and the "-l OPTION"
# lines guarded by "__fish_seen_subcommand_from CMD".

set -l pfi_commands index trace info help

complete -c pfi -f

# Commands, offered until one is given.
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a index -d 'Read Postfix logs into the index'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a trace -d 'Show the life of messages by queue ID or Message-ID'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a info -d 'Show what the index holds'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -a help -d 'Show help for pfi or one of its commands'

# Global options, before or after the command.
complete -c pfi -l db -r -F -d 'Use the index at PATH'
complete -c pfi -l format -x -a 'table json ndjson csv tsv' -d 'Output format'
complete -c pfi -l json -d 'The same as --format json'
complete -c pfi -l color -x -a 'auto always never' -d 'Colour the table output'
complete -c pfi -l utc -d 'Print times in UTC'
complete -c pfi -n "not __fish_seen_subcommand_from $pfi_commands" -l version -d 'Print the version and exit'
complete -c pfi -s h -l help -d 'Print the usage and exit'

# pfi index [--follow] [--quiet] [PATH|-]...
complete -c pfi -n '__fish_seen_subcommand_from index' -F
complete -c pfi -n '__fish_seen_subcommand_from index' -s f -l follow -d 'Keep indexing what the files gain'
complete -c pfi -n '__fish_seen_subcommand_from index' -s q -l quiet -d 'Show no progress and no summary'

# pfi trace [--raw] ID...
complete -c pfi -n '__fish_seen_subcommand_from trace' -l raw -d 'Print only the raw log lines'

# pfi help [COMMAND]
complete -c pfi -n '__fish_seen_subcommand_from help' -a "$pfi_commands"
