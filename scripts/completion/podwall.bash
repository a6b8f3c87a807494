# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bash completion for podwall (installed by make install).
_podwall() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmd="" i

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--socket) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	--socket | -f | --file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-o | --output)
		COMPREPLY=($(compgen -W "table compact json" -- "$cur")); return ;;
	--verdict)
		COMPREPLY=($(compgen -W "allowed denied audit" -- "$cur")); return ;;
	--protocol)
		COMPREPLY=($(compgen -W "tcp udp sctp icmp icmpv6" -- "$cur"))
		return ;;
	--type) COMPREPLY=($(compgen -W "new drop end lost" -- "$cur")); return ;;
	--reason)
		COMPREPLY=($(compgen -W "policy-denied out-of-state policy-revoked
			spoofed-ip spoofed-mac bad-l2 bad-ipv4 bad-ipv6 bad-l4
			bad-tcp-flags frag-no-first frag-too-small frag-overlap
			frag-denied exthdr-chain icmp-unrelated unsupported-l3
			nd-from-pod map-full" -- "$cur"))
		return ;;
	--color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	esac
	case $cmd in
	"")
		COMPREPLY=($(compgen -W "apply delete get endpoints policies
			identities status trace flows help --socket" -- "$cur")) ;;
	apply) COMPREPLY=($(compgen -W "-f" -- "$cur")) ;;
	delete)
		COMPREPLY=($(compgen -W "-f networkpolicy pod namespace" -- "$cur")) ;;
	get) COMPREPLY=($(compgen -W "endpoints policies identities cni -o" \
		-- "$cur")) ;;
	trace) COMPREPLY=($(compgen -W "--from --to --port -o" -- "$cur")) ;;
	flows)
		COMPREPLY=($(compgen -W "--follow --last --file --dir --since
			--until --namespace --from-namespace --to-namespace --pod
			--from-pod --to-pod --label --from-label --to-label --ip
			--from-ip --to-ip --port --from-port --to-port --protocol
			--verdict --reason --policy --type --output --summary
			--color --help" -- "$cur")) ;;
	help) COMPREPLY=($(compgen -W "apply delete get status trace flows" \
		-- "$cur")) ;;
	esac
}
complete -F _podwall podwall
