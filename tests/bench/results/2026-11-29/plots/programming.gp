set terminal pngcairo size 960,540 font ',10'
set output '/tmp/bt/bench-out/programming.png'
set grid
set key outside right top
set title 'policy programming time vs scale (pods = policies, but 1,000 at 10,000 pods)'
set logscale xy
set xlabel 'pods (NetworkPolicies: as many, up to 4,000)'
set ylabel 'ms (median)'
set yrange [1:*]
set arrow from graph 0, first 10 to graph 1, first 10 nohead dt 3 lc rgb 'red'
plot '/tmp/bt/bench-out/plots/programming.dat' u 1:2 w linespoints lw 2 t 'podwall full-sync', '/tmp/bt/bench-out/plots/programming.dat' u 1:3 w linespoints lw 2 t 'iptables full-sync', '/tmp/bt/bench-out/plots/programming.dat' u 1:4 w linespoints lw 2 t 'nftables full-sync', '/tmp/bt/bench-out/plots/programming.dat' u 1:5 w linespoints lw 2 dt 2 t 'podwall policy-change', '/tmp/bt/bench-out/plots/programming.dat' u 1:6 w linespoints lw 2 dt 2 t 'iptables policy-change', '/tmp/bt/bench-out/plots/programming.dat' u 1:7 w linespoints lw 2 dt 2 t 'nftables policy-change', '/tmp/bt/bench-out/plots/programming.dat' u 1:8 w linespoints lw 2 dt 2 t 'podwall pod-add'
