# fish completion for pfi(1).  pfi answers itself: `pfi __complete WORD...`
# prints what may replace the last word (commands, options, value sets,
# domains, hosts, addresses and queue IDs from the index), from the same
# option specs as `pfi CMD --help`.  A line ":file" asks for file names.

function __pfi_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] $cur 2>/dev/null)
    if test "$out[1]" = ":file"
        __fish_complete_path $cur
        return
    end
    printf '%s\n' $out
end

complete -c pfi -f -a '(__pfi_complete)'
