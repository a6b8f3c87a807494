set terminal pngcairo size 960,540 font ',10'
set output '/tmp/bf/pkt_rules.png'
set grid
set key outside right top
set title 'podwall pw\_from\_pod, ns/packet vs policy rules (100 identities, BPF\_PROG\_TEST\_RUN)'
set logscale x
set xlabel 'policy rules (trie entries of the pod)'
set ylabel 'ns/packet'
set yrange [0:*]
plot '/tmp/bf/plots/pkt_rules.dat' u 1:2 w linespoints lw 2 t 'new-allowed', '/tmp/bf/plots/pkt_rules.dat' u 1:3 w linespoints lw 2 t 'established', '/tmp/bf/plots/pkt_rules.dat' u 1:4 w linespoints lw 2 t 'denied', '/tmp/bf/plots/pkt_rules.dat' u 1:5 w linespoints lw 2 t 'new-cidr', '/tmp/bf/plots/pkt_rules.dat' u 1:6 w linespoints lw 2 t 'ipv6-2ext', '/tmp/bf/plots/pkt_rules.dat' u 1:7 w linespoints lw 2 t 'no-endpoint', '/tmp/bf/plots/pkt_rules.dat' u 1:8 w linespoints lw 2 t 'new-open', '/tmp/bf/plots/pkt_rules.dat' u 1:9 w linespoints lw 2 t 'established-hot', '/tmp/bf/plots/pkt_rules.dat' u 1:10 w linespoints dt 2 lw 2 t 'no-op program'
