/* kiln-bench-util.h: what the benchmarks share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The median of @n values (the mean of the two middle ones when @n is even); @values is
 * left as it is. */
double kiln_bench_median (const double *values,
                          guint         n);

G_END_DECLS
