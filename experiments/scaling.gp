# Draws experiments/scaling's results: wall time (left) and CPU seconds (right) against the number of
# concurrent downloads, one line per strategy, log scales. The data file holds one block per
# strategy (a header line with its name, then "downloads wall cpu" rows), blocks two blank lines
# apart. Called as  gnuplot -e "data='scaling.dat'; out='scaling.svg'" scaling.gp
set terminal svg size 1000,420 dynamic enhanced font "sans,12" background rgb "white"
set output out
set multiplot layout 1,2 title "Concurrent downloads from one slow server, per strategy"
set logscale xy
set key top left font ",10"
set grid
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05  # no point on the frame
set xlabel "downloads at once"
positive(x) = x > 0 ? x : NaN  # a log scale cannot show 0 s of CPU
set ylabel "wall time (s)"
plot for [i=0:*] data index i using 1:(positive($2)) with linespoints title columnheader(1)
set ylabel "CPU time (s)"
plot for [i=0:*] data index i using 1:(positive($3)) with linespoints title columnheader(1)
unset multiplot
