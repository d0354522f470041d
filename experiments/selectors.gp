# Draws experiments/selectors' results: the client's CPU per chunk (left) and wall time (right)
# against the number of downloads at once, one line per strategy and selector. The data file holds
# one block per line (a header line with its name, then "downloads cpu_us_per_chunk wall_s" rows),
# blocks two blank lines apart. Called as  gnuplot -e "data='selectors.dat'; out='selectors.svg'" selectors.gp
set terminal svg size 1000,420 dynamic enhanced font "sans,12" background rgb "white"
set output out
set multiplot layout 1,2 title "select, poll and epoll under the client's loop strategies"
set key top left font ",9"
set grid
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
set xlabel "downloads at once"
set ylabel "client CPU per chunk (µs)"
plot for [i=0:*] data index i using 1:2 with linespoints title columnheader(1)
set ylabel "wall time (s)"
plot for [i=0:*] data index i using 1:3 with linespoints title columnheader(1)
unset multiplot
