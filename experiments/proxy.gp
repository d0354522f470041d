# Draws experiments/proxy's results: the bytes an HTTP GET had received against time, one line per
# setting. The CSV holds "setting,seconds,bytes" rows, one setting after another.
# Called as  gnuplot -e "data='proxy.csv'; out='proxy.svg'" proxy.gp
set terminal svg size 900,420 dynamic enhanced font "sans,12" background rgb "white"
set output out
set datafile separator ","
set title "An HTTP GET from Python's http.server, directly and through poetry_server --upstream" noenhanced
set key bottom right font ",10" noenhanced
set grid
set xlabel "seconds since the request"
set ylabel "bytes received"
settings = system("tail -n +2 '" . data . "' | cut -d, -f1 | uniq | tr ' ' '~'")
plot for [s in settings] data using (strcol(1) eq system("echo '" . s . "' | tr '~' ' '") ? $2 : NaN):3 \
    with steps lw 2 title system("echo '" . s . "' | tr '~' ' '")
