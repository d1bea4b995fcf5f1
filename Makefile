# nymbox - GNU make, no configure.  One TOOLS list drives everything.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
PKG_CONFIG ?= pkg-config
PROVE ?= prove
# Test scripts at once: most of a test's time is waiting (for servers,
# routers, deadlines), so three keep two cores busy; t/testrules.yml
# gives the i2pd tests one lane, one after another.
TEST_JOBS ?= 3
CFLAGS ?= -O2 -g
WERROR ?=

# Programs written in C (bin/NAME.c) and in shell (bin/NAME).
TOOLS = scrub-headers smtp-receive resolve-maildest sam-deliver sam-accept
TOOLS += onion-deliver
TOOLS += pop-fetch mbox-encrypt pop-serve
TOOLS += nymbox-sendmail smtp-submit
TOOLS += delay-queue queue-run
TOOLS += nymbox-init onion-key
TOOLS += pow-stamp sender-list
SCRIPTS = batch-delay
ALL = $(TOOLS) $(SCRIPTS)
# Pages that are not a program's: the configuration file and overviews.
MAN5 = man/nymbox.conf.5
MAN7 = man/nymbox.7 man/nymbox-setup.7

override CFLAGS += -std=c11 -Wall -Wextra -Wshadow -Wpointer-arith \
	-Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes $(WERROR)
# -idirafter, not -I or -iquote: lib/limits.h must not hide the C
# library's <limits.h> (gcc's own limits.h reaches it by #include_next,
# which searches the -iquote directories too).
override CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -idirafter lib

# scrub-headers runs once per message under procmail or an MTA, so it is
# linked statically: the dynamic loader would cost it a third of its run
# (README, "Speed").  check-asan sets STATIC empty; the sanitizers need
# the dynamic runtime.  ld's warnings about readline's getpwnam are
# silenced: tilde expansion is the only thing that would miss NSS.
STATIC = -static -Wl,--no-warnings
SODIUM_LIBS = $(shell $(PKG_CONFIG) --static --libs libsodium)
READLINE_LIBS = $(shell $(PKG_CONFIG) --static --libs readline)
GMIME_CFLAGS = $(shell $(PKG_CONFIG) --cflags gmime-3.0)
GMIME_LIBS = $(shell $(PKG_CONFIG) --libs gmime-3.0)
GMIME_INC = $(shell $(PKG_CONFIG) --cflags-only-I gmime-3.0)
GCRYPT_LIBS = $(shell $(PKG_CONFIG) --static --libs libgcrypt)
# libequihash (the memory-hard stamps, lib/pow.c) is C++ and calls
# libsodium's BLAKE2b: its pkg-config file names neither.
EQUIHASH_LIBS = $(shell $(PKG_CONFIG) --static --libs libequihash) \
	-lstdc++ -lm $(SODIUM_LIBS)

# O= names a build directory prefix (check-asan builds into asan/).
O =
LIBSRC = lib/err.c lib/io.c lib/hdr.c lib/addr.c lib/date.c lib/enc.c \
	lib/rfc2047.c lib/atomic.c lib/conf.c lib/crypto.c lib/net.c \
	lib/i2p.c lib/sam.c
LIBSRC += lib/smtp.c lib/maildir.c lib/mbox.c lib/journal.c lib/fetch.c lib/samkey.c lib/samborrow.c lib/samshare.c \
	lib/resolve.c
LIBSRC += lib/pop3.c lib/pop3client.c lib/socks.c
LIBSRC += lib/seal.c
LIBSRC += lib/pass.c
LIBSRC += lib/queue.c lib/dsn.c
LIBSRC += lib/popd.c lib/linesrv.c
LIBSRC += lib/destgen.c lib/samclient.c
LIBSRC += lib/scrub.c
LIBSRC += lib/onion.c lib/onionkey.c lib/dkim.c lib/tls.c lib/smtptls.c
LIBSRC += lib/deliver.c
LIBSRC += lib/pow.c lib/powdb.c lib/demand.c
LIBSRC += lib/senders.c
LIBOBJ = $(LIBSRC:%.c=$(O)%.o)
LIBA = $(O)lib/libnymbox.a
UNITS = $(patsubst %.c,$(O)%.t,$(wildcard t/unit/*.c))
HELPERS = t/helpers/samtool t/helpers/reaper t/helpers/tlsclient
BINS = $(TOOLS:%=$(O)bin/%)

all: $(BINS) $(SCRIPTS:%=bin/%)

# What a file includes it depends on: the compiler writes that down
# (-MMD, a .d file beside each object and program), so an edit rebuilds
# only what includes the header edited.
override CPPFLAGS += -MMD -MP
-include $(wildcard $(O)lib/*.d $(O)bin/*.d $(O)t/unit/*.d $(O)t/helpers/*.d \
	fuzz/t/fuzz/*.d)

# And the libraries a program links follow from the layers it includes
# (lib/*.h; README, "Layout"): crypto.c in base.h needs libsodium; seal.h,
# and i2p.h for destgen.c, libgcrypt too; dsn.h is GMime's.  Unneeded
# ones cost nothing: a static link takes only the members it uses, a
# dynamic one is --as-needed.
SEAL_LIBS = $(SODIUM_LIBS) $(GCRYPT_LIBS)
LIBS_base.h = $(SODIUM_LIBS)
LIBS_seal.h = $(SEAL_LIBS)
LIBS_i2p.h = $(SEAL_LIBS)
LIBS_tor.h = $(SEAL_LIBS)
LIBS_pow.h = $(EQUIHASH_LIBS) $(SEAL_LIBS)
TLS_LIBS = $(shell $(PKG_CONFIG) --static --libs openssl)
LIBS_tls.h = $(TLS_LIBS)
LIBS_dsn.h = $(GMIME_LIBS)
LIBS_readline/readline.h = $(READLINE_LIBS)
includes = $(shell sed -n 's/^\#include [<"]\([^>"]*\)[>"].*/\1/p' $(1))
# A layer brings the libraries of the layers it includes (proto.h's
# popd.c seals with seal.h's).
hdrlibs = $(LIBS_$(1)) $(if $(wildcard lib/$(1)),$(foreach h,$(call \
	includes,lib/$(1)),$(call hdrlibs,$(h))))
libsof = -Wl,--as-needed $(foreach h,$(call includes,$(1)),$(call hdrlibs,$(h)))

$(O)lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(O)bin/%: bin/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) \
		$(call libsof,$<) $(LDLIBS)

# Programs run once per message or connection (by procmail, an MTA, a
# listener) are linked statically: the dynamic loader would cost
# scrub-headers a third of its run (README, "Speed").
$(O)bin/scrub-headers $(O)bin/smtp-receive $(O)bin/mbox-encrypt \
	$(O)bin/delay-queue $(O)bin/pop-serve $(O)bin/pow-stamp: LDFLAGS += $(STATIC)

# GMime only in dsn.c (dsn.h).
$(O)lib/dsn.o: override CPPFLAGS += $(GMIME_CFLAGS)

$(O)t/unit/%.t: t/unit/%.c t/unit/tap.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -It/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) \
		$(call libsof,$<) $(LDLIBS)

$(O)t/helpers/%: t/helpers/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) \
		$(call libsof,$<) $(LDLIBS)

# reaper runs every test of make check: it needs nothing of the library.
$(O)t/helpers/reaper: t/helpers/reaper.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

units: $(UNITS)

helpers: $(HELPERS:%=$(O)%)

deps:
	@sh t/deps.sh test

# Every test runs under t/helpers/reaper, which fails it if it leaves a
# process or a file in TMPDIR behind.  The sanitizer build is about three
# times slower: NYM_TEST_SCALE stretches the time limits tests set.
REAPER = $(CURDIR)/t/helpers/reaper

check: deps
	$(MAKE) all units helpers
	$(PROVE) -j$(TEST_JOBS) --exec $(REAPER) t/*.t $(UNITS)
	$(MAKE) check-asan

ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all

check-asan:
	$(MAKE) O=asan/ CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" \
		STATIC= WERROR="$(WERROR)" all units helpers
	$(MAKE) t/helpers/reaper
	NYM_TEST_SCALE=3 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99 \
	NYM_BIN=$(CURDIR)/asan/bin NYM_HELPERS=$(CURDIR)/asan/t/helpers \
	$(PROVE) -j$(TEST_JOBS) --exec $(REAPER) t/*.t \
		$(patsubst %.c,asan/%.t,$(wildcard t/unit/*.c))

# Fuzzing (README, "Fuzzing"): a libFuzzer harness per parser of outside
# bytes, t/fuzz/TARGET.c, built with clang and its sanitizers into fuzz/
# (the library too, instrumented); `make fuzz` runs each in turn for
# FUZZ_SECONDS on its seeds (t/fuzz/corpus/TARGET) and the inputs that
# once broke it (t/fuzz/regress/TARGET), one process at a time.  New
# inputs go to fuzz/corpus/TARGET, a crash to fuzz/crash/TARGET-*.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_TARGETS = $(patsubst t/fuzz/%.c,%,$(wildcard t/fuzz/*.c))
FUZZ_BINS = $(FUZZ_TARGETS:%=fuzz/t/fuzz/%)

# The instrumented library, built by a make of its own (O=fuzz/); a rule
# for it here too, so that make -n fuzz in a fresh tree shows the steps.
FUZZ_LIB = $(MAKE) O=fuzz/ CC=$(FUZZ_CC) STATIC= WERROR="$(WERROR)" \
	CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" fuzz/lib/libnymbox.a

fuzz-build:
	$(FUZZ_LIB)
	$(MAKE) CC=$(FUZZ_CC) $(FUZZ_BINS)

ifneq ($(O),fuzz/)
fuzz/lib/libnymbox.a:
	$(FUZZ_LIB)
endif

fuzz/t/fuzz/%: t/fuzz/%.c fuzz/lib/libnymbox.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_LDFLAGS) fuzz/lib/libnymbox.a $(call libsof,$<) \
		$(FUZZ_LDLIBS)

fuzz: fuzz-build
	@mkdir -p fuzz/crash
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t; \
		regress=; test -d t/fuzz/regress/$$t && regress=t/fuzz/regress/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		fuzz/t/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=1024 -print_final_stats=1 \
			-artifact_prefix=fuzz/crash/$$t- \
			fuzz/corpus/$$t t/fuzz/corpus/$$t $$regress \
			>fuzz/$$t.log 2>&1 || \
		{ tail -40 fuzz/$$t.log; echo "fuzz: $$t failed: fuzz/$$t.log"; \
		  exit 1; }; \
		grep -E '^stat::number_of_executed_units' fuzz/$$t.log; \
	done

bench:
	@sh t/deps.sh bench
	$(MAKE) all helpers
	sh t/bench/run.sh
	sh t/bench/sam.sh
	sh t/bench/sam-net.sh
	sh t/bench/onion-fake.sh
	sh t/bench/onion-tor.sh
	sh t/bench/pop.sh
	sh t/bench/seal.sh
	sh t/bench/queue.sh
	sh t/bench/queue-batch.sh
	sh t/bench/onion-sign.sh
	sh t/bench/pow.sh

# The demo builds what it runs (the programs and t/helpers/samtool) and
# installs only the packages it uses.
demo:
	@sh t/deps.sh demo
	$(MAKE) all helpers
	sh t/demo.sh

# clang-tidy: Annex K "insecure API" advice is not for C11 on glibc, and
# clang 14's valist checker misreads every va_list handed to a function
# on x86-64 (where va_list is an array), and not always the same way: a
# fresh-clone CI run once had it call a byte array in lib/pow.c, a file
# without a va_list, an "initialized va_list" leaked, which reruns of
# the same tree did not.  So none of its checks runs.
lint:
	mandoc -Tlint -Wwarning man/*.[1-9]
	cppcheck --quiet --error-exitcode=1 --std=c11 \
		--enable=warning,style,performance,portability \
		--suppress=missingIncludeSystem --suppress=variableScope \
		--inline-suppr $(filter-out lib/dsn.c,$(wildcard lib/*.c))
	cppcheck --quiet --error-exitcode=1 --std=c11 \
		--enable=warning,style,performance,portability \
		--suppress=missingIncludeSystem --suppress=variableScope \
		--inline-suppr $(GMIME_INC) \
		$(GMIME_INC:-I%=--config-exclude=%) lib/dsn.c
	clang-tidy --quiet --warnings-as-errors='*' \
		--checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-valist.*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition' \
		lib/*.c -- $(filter-out -MMD -MP,$(CPPFLAGS)) $(GMIME_CFLAGS) -std=c11

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(ALL:%=bin/%) $(DESTDIR)$(BINDIR)
	install -m 644 $(ALL:%=man/%.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	for t in $(ALL); do \
		install -m 644 completions/bash/nymbox $(DESTDIR)$(BASHCOMPDIR)/$$t; \
	done
	install -m 644 completions/zsh/_nymbox $(DESTDIR)$(ZSHCOMPDIR)

uninstall:
	for t in $(ALL); do \
		rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1 \
		    $(DESTDIR)$(BASHCOMPDIR)/$$t; \
	done
	rm -f $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%) \
		$(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%) \
		$(DESTDIR)$(ZSHCOMPDIR)/_nymbox

clean:
	rm -rf asan fuzz lib/*.o lib/*.d bin/*.d t/unit/*.d t/helpers/*.d $(LIBA) $(TOOLS:%=bin/%) $(HELPERS) t/unit/*.t \
		t/trash.*


.PHONY: all deps units helpers check check-asan fuzz fuzz-build bench demo lint install uninstall clean
