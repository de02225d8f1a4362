# Remora soak chart (called by bench/soak/run.sh):
#   gnuplot -e "csv='samples.csv'; outfile='soak.png'; warm=MIN; subtitle='...'" chart.gp
# samples.csv: t_s, rss_kb, fds, pipe_fds, other_fds, conns_open, ... (header row).
# Top: RSS (MiB) on the left axis, jemalloc's allocated bytes beside it.
# Bottom: descriptors (non-pipe, pipe ends) and open connections.
# warm: end of the warm-up, in minutes (a dashed line).
set terminal pngcairo size 1100,800 font "sans,10"
set output outfile
set datafile separator ","
set key outside right top vertical
set grid
set xlabel "minutes"
set linetype 1 lc rgb "#1565c0" lw 2
set linetype 2 lc rgb "#64b5f6" lw 1
set linetype 3 lc rgb "#e65100" lw 2
set linetype 4 lc rgb "#ffb74d" lw 1
set linetype 5 lc rgb "#2e7d32" lw 1
set arrow 1 from warm, graph 0 to warm, graph 1 nohead dt 2 lc rgb "#616161"
set multiplot layout 2,1 title "Remora soak — ".subtitle

set title "memory (warm-up ends at the dashed line)"
set ylabel "MiB"
set yrange [0:*]
plot csv using ($1/60):($2/1024) skip 1 with linespoints pt 7 ps 0.4 lt 1 title "VmRSS", \
     csv using ($1/60):($7/1048576) skip 1 with lines lt 2 title "jemalloc allocated"

set title "descriptors and connections"
set ylabel "count"
set yrange [0:*]
plot csv using ($1/60):5 skip 1 with linespoints pt 7 ps 0.4 lt 3 title "fds (non-pipe)", \
     csv using ($1/60):4 skip 1 with lines lt 4 title "pipe ends", \
     csv using ($1/60):6 skip 1 with lines lt 5 title "connections open"
unset multiplot
