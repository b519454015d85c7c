# The two commands: `make run` and `make check`. Both install what is missing first.

BUILDDIR ?= _build
ASANDIR ?= _build-asan
MESON_OPTIONS ?= -Ddevelopment=true

.PHONY: all setup build run check check-asan bench clean

all: build

setup:
	@build-aux/setup.sh

$(BUILDDIR)/build.ninja:
	meson setup $(BUILDDIR) $(MESON_OPTIONS)

build: setup $(BUILDDIR)/build.ninja
	meson compile -C $(BUILDDIR)

run: build
	@build-aux/run-app.sh $(BUILDDIR)

check: build
	@build-aux/check.sh $(BUILDDIR)

check-asan: setup
	test -f $(ASANDIR)/build.ninja || meson setup $(ASANDIR) $(MESON_OPTIONS) -Db_sanitize=address,undefined -Db_lundef=false
	meson compile -C $(ASANDIR)
	@build-aux/check.sh $(ASANDIR)

bench: build
	@build-aux/bench.sh $(BUILDDIR)

clean:
	rm -rf $(BUILDDIR) $(ASANDIR)
