set terminal pngcairo size 960,540 font ',10'
set output '/tmp/bt/bench-out/pkt_rules.png'
set grid
set key outside right top
set title 'podwall pw\_from\_pod, ns/packet vs policy rules (100 identities, BPF\_PROG\_TEST\_RUN)'
set logscale x
set xlabel 'policy rules (policy entries of the pod)'
set ylabel 'ns/packet'
set yrange [0:*]
plot '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:2 w linespoints lw 2 t 'new-allowed', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:3 w linespoints lw 2 t 'established', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:4 w linespoints lw 2 t 'denied', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:5 w linespoints lw 2 t 'new-cidr', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:6 w linespoints lw 2 t 'ipv6-2ext', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:7 w linespoints lw 2 t 'no-endpoint', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:8 w linespoints lw 2 t 'new-open', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:9 w linespoints lw 2 t 'new-same-rule', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:10 w linespoints lw 2 t 'established-hot', '/tmp/bt/bench-out/plots/pkt_rules.dat' u 1:11 w linespoints dt 2 lw 2 t 'no-op program'
