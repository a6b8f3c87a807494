set terminal pngcairo size 960,540 font ',10'
set output '/tmp/bt/bench-out/traffic_ns.png'
set grid
set key outside right top
set title 'ns/packet added over no firewall, from UDP pps (1e9/pps - 1e9/pps_{none})'
set logscale xy
set xlabel 'rules'
set ylabel 'ns/packet'
plot '/tmp/bt/bench-out/plots/traffic_ns.dat' u 1:2 w linespoints lw 2 t 'podwall', '/tmp/bt/bench-out/plots/traffic_ns.dat' u 1:3 w linespoints lw 2 t 'iptables', '/tmp/bt/bench-out/plots/traffic_ns.dat' u 1:4 w linespoints lw 2 t 'iptables-nocd', '/tmp/bt/bench-out/plots/traffic_ns.dat' u 1:5 w linespoints lw 2 t 'nftables', '/tmp/bt/bench-out/plots/traffic_ns.dat' u 1:6 w linespoints lw 2 t 'xdp-filter', '/tmp/bt/bench-out/plots/traffic_ns.dat' u 1:7 w linespoints lw 2 t 'xdp-pass', '/tmp/bt/bench-out/plots/traffic_ns.dat' u 1:8 w linespoints lw 2 t 'xdp-pass-frags'
