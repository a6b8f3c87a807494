set terminal pngcairo size 960,540 font ',10'
set output '/tmp/bt/bench-out/pps.png'
set grid
set key outside right top
set title 'UDP 64-byte packets per second, per setup'
set style data histograms
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30
set ylabel 'packets/s (median)'
set yrange [0:*]
plot '/tmp/bt/bench-out/plots/pps.dat' u 2:xtic(1) t '10 rules', '/tmp/bt/bench-out/plots/pps.dat' u 3:xtic(1) t '1000 rules', '/tmp/bt/bench-out/plots/pps.dat' u 4:xtic(1) t '10000 rules'
