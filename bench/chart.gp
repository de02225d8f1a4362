# Remora benchmark chart (called by bench/report.py):
#   gnuplot -e "datafile='chart.dat'; outfile='x.png'; ncols=N; lts='2 3'; cpufirst=2" bench/chart.gp
# chart.dat holds three blocks (index 0 requests/s, 1 proxy CPU µs/request,
# 2 p99 ms); in each, one row per scenario and one column per subject; lts
# names each column's line type (colour), so a subject keeps its colour;
# cpufirst is 3 when column 2 is "no proxy" (which has no proxy CPU).
set terminal pngcairo size 1200,1100 font "sans,10"
set output outfile
set datafile separator "\t"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top vertical
set yrange [0:*]
set xtics nomirror
set ytics nomirror
set linetype 1 lc rgb "#9e9e9e"
set linetype 2 lc rgb "#1565c0"
set linetype 3 lc rgb "#e65100"
set linetype 4 lc rgb "#2e7d32"
set linetype 5 lc rgb "#64b5f6"
set linetype 6 lc rgb "#ffb74d"

set multiplot layout 3,1 title "Remora vs HAProxy vs Squid — transparent proxy, 2-core netns testbed (medians)"
set title "requests per second (higher is better)"
plot for [i=2:ncols+1] datafile index 0 using i:xtic(1) title columnheader(i) lt int(word(lts, i - 1))
# Squid is 10x the others: log scales keep Remora and HAProxy readable
set logscale y
set yrange [1:*]
set title "proxy CPU time per request, µs (user+sys, lower is better; log scale)"
plot for [i=cpufirst:ncols+1] datafile index 1 using i:xtic(1) title columnheader(i) lt int(word(lts, i - 1))
set yrange [0.5:*]
set title "p99 latency, ms (lower is better; log scale)"
plot for [i=2:ncols+1] datafile index 2 using i:xtic(1) title columnheader(i) lt int(word(lts, i - 1))
unset multiplot
