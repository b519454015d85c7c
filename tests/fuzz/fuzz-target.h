/* fuzz-target.h: the entry point of a fuzz target, for libFuzzer and the replay driver
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Called once before the first input: makes GLib warnings and criticals fatal. */
int LLVMFuzzerInitialize   (int           *argc,
                            char        ***argv);

/* Returns 0. Must not crash, leak or emit warnings for any input. */
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);
