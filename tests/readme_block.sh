# Sourced by the tests that run a README block as written (check_readme_example.sh,
# check_proxy_example.sh): the block, and a scratch folder that looks like the repository's root.

# readme_block MARKER ROOT: prints the ```sh block that follows the line "<!-- MARKER" in README.md.
readme_block() {
    awk -v marker="<!-- $1" 'index($0, marker) == 1 {marked = 1; next}
                             marked && /^```sh/ {inside = 1; next}
                             inside && /^```/ {exit}
                             inside {print}' "$2/README.md"
}

# scratch_root WORK BUILD ROOT: WORK gets build/default (BUILD), poems/ and experiments/ linked in.
scratch_root() {
    mkdir -p "$1/build"
    ln -s "$2" "$1/build/default"
    ln -s "$3/poems" "$1/poems"
    ln -s "$3/experiments" "$1/experiments"
}
