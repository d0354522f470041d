# Draws experiments/servers' results: the server's CPU seconds (left) and how late its chunks left, p99
# (right), against the number of clients, one line per mode, log scales. The data file holds one
# block per mode (a header line with its name, then "clients cpu p99" rows), blocks two blank lines
# apart. Called as  gnuplot -e "data='servers.dat'; out='servers.svg'" servers.gp
set terminal svg size 1000,420 dynamic enhanced font "sans,12" background rgb "white"
set output out
set multiplot layout 1,2 title "The same load against every server mode"
set logscale xy
set key top left font ",9"
set grid
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
set xlabel "clients at once"
# A log scale cannot show 0: a figure under the measure's resolution (CPU in 10 ms steps, lateness in
# 0.1 ms ones) is drawn at it, so that a run too short to measure still has its point.
at_least(x, floor) = x > floor ? x : floor
set ylabel "server CPU (s)"
plot for [i=0:*] data index i using 1:(at_least($2, 0.01)) with linespoints title columnheader(1)
set ylabel "chunks late, p99 (ms)"
plot for [i=0:*] data index i using 1:(at_least($3, 0.1)) with linespoints title columnheader(1)
unset multiplot
