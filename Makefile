# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwall: one `make` builds the BPF object, its skeleton and every binary.
# `make test` also builds the unit tests under ASan and UBSan, then runs the
# whole suite (tests/run.sh). V=1 shows full command lines.

.DELETE_ON_ERROR:
.SUFFIXES:

BUILD ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
V ?= 0

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# BPF is built against the uapi headers of linux-libc-dev, not a vmlinux.h:
# TC programs read only __sk_buff and packet bytes, so no CO-RE is needed.
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)
BPF_CFLAGS := -g -O2 -target bpf -Wall -Werror -I$(ARCH_INC)

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
CPPFLAGS += -I$(BUILD)/kern -Ikern -Iuser/lib -Iuser/compiler -Iuser/agent \
	-Iuser/cli \
	-D_GNU_SOURCE
# libbpf: loading, skeletons, TC attach. libcjson: JSON manifests, flow
# events. libyaml: YAML manifests, mapped onto the same cJSON tree.
# libmnl: rtnetlink, to find which veth leads to which pod.
# libcurl: the Kubernetes API server over HTTPS (user/agent/k8s_client.c).
LDLIBS := -lbpf -lelf -lz -lcjson -lyaml -lmnl -lpthread -lcurl

BPF_HDRS := $(wildcard kern/*.h kern/lib/*.h)
BPF_OBJ := $(BUILD)/kern/podwall.bpf.o
SKEL := $(BUILD)/kern/podwall.skel.h

# user/lib: loader and map access; user/compiler: the pure policy compiler
LIB_SRCS := $(wildcard user/lib/*.c)
COMPILER_SRCS := $(wildcard user/compiler/*.c)
# user/agent: what joins them on a node: sources, sync, control socket
AGENT_SRCS := $(wildcard user/agent/*.c)
# user/cli: the podwall CLI's flow reader and its filters
CLI_SRCS := $(wildcard user/cli/*.c)
CLI_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS))
LIB_HDRS := $(wildcard user/lib/*.h user/compiler/*.h user/agent/*.h \
	user/cli/*.h) \
	kern/podwall_abi.h
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
COMPILER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(COMPILER_SRCS))
AGENT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(AGENT_SRCS))

CMDS := $(BUILD)/podwall-dp $(BUILD)/podwalld $(BUILD)/podwall \
	$(BUILD)/cni/podwall

TEST_COMMON := tests/unit/main.c tests/unit/testlib.c
TEST_BPF_SRCS := $(wildcard tests/unit/bpf_*.c tests/unit/pktgen.c)
TEST_LIB_SRCS := $(wildcard tests/unit/lib_*.c)
TEST_HDRS := $(wildcard tests/unit/*.h)
TESTS := $(BUILD)/tests/test_bpf $(BUILD)/tests/test_lib

# libFuzzer (clang) over the compiler and what it calls in user/lib
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS := $(COMPILER_SRCS) user/lib/addr.c user/lib/portrange.c \
	user/lib/names.c
FUZZ_OBJS := $(patsubst %.c,$(BUILD)/fuzz/%.o,$(FUZZ_SRCS))
FUZZ_CNI_SRCS := user/agent/cni_result.c user/agent/source_cni.c \
	user/agent/source.c \
	user/lib/log.c
FUZZ_CNI_OBJS := $(patsubst %.c,$(BUILD)/fuzz/%.o,$(FUZZ_CNI_SRCS))
# what the Docker daemon answers: HTTP parser and container-to-Pod mapping
FUZZ_DOCKER_SRCS := user/agent/docker_api.c user/agent/source_docker.c \
	user/agent/source.c \
	user/lib/log.c
FUZZ_DOCKER_OBJS := $(patsubst %.c,$(BUILD)/fuzz/%.o,$(FUZZ_DOCKER_SRCS))
# the control socket, end to end: a whole agent
FUZZ_AGENT_OBJS := $(patsubst %.c,$(BUILD)/fuzz/%.o,$(AGENT_SRCS) \
	$(LIB_SRCS) $(COMPILER_SRCS))
FUZZERS := $(BUILD)/fuzz/fuzz_manifest $(BUILD)/fuzz/fuzz_cni \
	$(BUILD)/fuzz/fuzz_control $(BUILD)/fuzz/fuzz_docker

.PHONY: all unit-bins fuzzers bench bench-quick bench-traffic test demo deps \
	clean format check-format install

# make install: the agent, the CLI, the CNI plugin, a systemd unit, a config
# and a chained CNI conflist for a node (scripts/deploy/).
PREFIX ?= /usr/local
CNI_BIN_DIR ?= /opt/cni/bin
CNI_CONF_DIR ?= /etc/cni/net.d
DESTDIR ?=

all: $(CMDS) $(TESTS)

unit-bins: $(TESTS)

$(BPF_OBJ): kern/podwall.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name podwall_bpf > $@

$(BUILD)/user/%.o: user/%.c $(LIB_HDRS) $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c $< -o $@

$(BUILD)/podwall-dp $(BUILD)/podwalld: $(BUILD)/%: \
		$(BUILD)/user/cmd/%.o $(AGENT_OBJS) $(COMPILER_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/podwall: $(BUILD)/user/cmd/podwall.o $(CLI_OBJS) $(AGENT_OBJS) \
		$(COMPILER_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# the CNI plugin: a runtime runs it by its type, so its file is "podwall"
$(BUILD)/cni/podwall: $(BUILD)/user/cmd/podwall-cni.o $(AGENT_OBJS) \
		$(COMPILER_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%.o: tests/unit/%.c $(TEST_HDRS) $(LIB_HDRS) $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(WARN) -c $< -o $@

tobj = $(patsubst tests/unit/%.c,$(BUILD)/tests/%.o,$(1))

$(BUILD)/tests/test_bpf: $(call tobj,$(TEST_COMMON) $(TEST_BPF_SRCS)) \
		$(AGENT_OBJS) $(COMPILER_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/test_lib: $(call tobj,$(TEST_COMMON) $(TEST_LIB_SRCS)) \
		$(CLI_OBJS) $(COMPILER_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/fuzz/%.o: %.c $(LIB_HDRS) $(SKEL)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) -c $< -o $@

$(BUILD)/fuzz/fuzz_manifest: $(BUILD)/fuzz/tests/fuzz/fuzz_manifest.o $(FUZZ_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined $^ -lcjson -lyaml -o $@

$(BUILD)/fuzz/fuzz_control: $(BUILD)/fuzz/tests/fuzz/fuzz_control.o \
		$(FUZZ_AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined $^ $(LDLIBS) -o $@

$(BUILD)/fuzz/fuzz_cni: $(BUILD)/fuzz/tests/fuzz/fuzz_cni.o $(FUZZ_OBJS) \
		$(FUZZ_CNI_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined $^ -lcjson -lyaml \
		-lbpf -o $@

$(BUILD)/fuzz/fuzz_docker: $(BUILD)/fuzz/tests/fuzz/fuzz_docker.o \
		$(FUZZ_OBJS) $(FUZZ_DOCKER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined $^ -lcjson -lyaml \
		-lbpf -o $@

fuzzers: $(FUZZERS)

$(BUILD)/bench/bench_compile: tests/bench/bench_compile.c $(AGENT_OBJS) \
		$(COMPILER_OBJS) $(LIB_OBJS) $(LIB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $< $(AGENT_OBJS) \
		$(COMPILER_OBJS) $(LIB_OBJS) $(LDLIBS) -o $@

$(BUILD)/bench/bench_flowlog: tests/bench/bench_flowlog.c $(AGENT_OBJS) \
		$(COMPILER_OBJS) $(LIB_OBJS) $(LIB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $< $(AGENT_OBJS) \
		$(COMPILER_OBJS) $(LIB_OBJS) $(LDLIBS) -o $@

# tests/bench: the no-op TC program that is bench_pkt's same-run baseline,
# the per-packet benchmark, and bench_program.sh's prober
$(BUILD)/bench/noop.bpf.o: tests/bench/noop.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/bench_pkt: tests/bench/bench_pkt.c tests/unit/pktgen.c \
		tests/unit/pktgen.h $(AGENT_OBJS) $(COMPILER_OBJS) $(LIB_OBJS) \
		$(LIB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(WARN) $< \
		tests/unit/pktgen.c $(AGENT_OBJS) $(COMPILER_OBJS) \
		$(LIB_OBJS) $(LDLIBS) -o $@

$(BUILD)/bench/bench_probe: tests/bench/bench_probe.c tests/unit/pktgen.c \
		tests/unit/pktgen.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(WARN) $< \
		tests/unit/pktgen.c -lbpf -o $@

# Benchmarks: numbers for the README, never pass/fail. tests/bench/run.sh
# runs every part and writes $(BENCH_OUT)/report.md with its plots;
# bench-quick is the small run CI keeps from rotting (under 3 minutes).
BENCH_OUT ?= bench-out
# the traffic parts run the agent, its CNI plugin and podwall-dp too
BENCH_BINS := $(BUILD)/bench/bench_compile $(BUILD)/bench/bench_flowlog \
	$(BUILD)/bench/bench_pkt $(BUILD)/bench/bench_probe \
	$(BUILD)/bench/noop.bpf.o $(CMDS)

bench: $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) bash tests/bench/run.sh --out $(BENCH_OUT)
	$(Q)BUILD=$(BUILD) bash tests/bench/bench_flows_filter.sh

bench-quick: $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) bash tests/bench/run.sh --quick --out $(BENCH_OUT)

# Real traffic alone (run.sh runs it too): veths between namespaces under
# podwall, iptables, nftables and xdp-filter. Root; about 7 minutes
# (QUICK=1: 40 s). CSV files and traffic_summary.md in $(BENCH_OUT).
bench-traffic: $(CMDS)
	$(Q)BUILD=$(BUILD) bash tests/bench/bench_traffic.sh --out $(BENCH_OUT) \
		$(if $(QUICK),--quick)

# The README's commands. Both run as root; scripts/install-deps.sh is
# idempotent and is what installs every package either one needs.
test: all fuzzers $(BENCH_BINS)
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 all
	$(Q)BUILD=$(BUILD) tests/run.sh

demo: all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

deps:
	$(Q)scripts/install-deps.sh

format:
	$(Q)git ls-files '*.c' '*.h' | xargs clang-format -i

check-format:
	$(Q)git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

install: $(CMDS)
	install -D -m 0755 $(BUILD)/podwalld $(DESTDIR)$(PREFIX)/sbin/podwalld
	install -D -m 0755 $(BUILD)/podwall $(DESTDIR)$(PREFIX)/bin/podwall
	install -D -m 0755 $(BUILD)/cni/podwall $(DESTDIR)$(CNI_BIN_DIR)/podwall
	install -D -m 0644 scripts/deploy/podwalld.service \
		$(DESTDIR)/etc/systemd/system/podwalld.service
	install -d -m 0755 $(DESTDIR)/etc/podwall/manifests
	[ -e $(DESTDIR)/etc/podwall/podwalld.conf ] || install -m 0644 \
		scripts/deploy/podwalld.conf $(DESTDIR)/etc/podwall/podwalld.conf
	install -D -m 0644 scripts/deploy/10-podwall.conflist \
		$(DESTDIR)$(CNI_CONF_DIR)/10-podwall.conflist.example
	install -D -m 0644 scripts/completion/podwall.bash \
		$(DESTDIR)/usr/share/bash-completion/completions/podwall
	install -D -m 0644 README.md \
		$(DESTDIR)$(PREFIX)/share/doc/podwall/README.md

clean:
	$(Q)rm -rf $(BUILD)
