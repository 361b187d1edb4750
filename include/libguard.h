/*
 * libguard: guardrails for LLM traffic.  The only header users include.
 *
 * Threading, in short: a compiler is used by one thread at a time; compiled
 * rules are immutable and shared freely; each thread scans with its own
 * scratch.  Each header repeats the rules that apply to it.
 */
#ifndef LIBGUARD_H
#define LIBGUARD_H

#include "libguard/lg_common.h"
#include "libguard/lg_rules.h"
#include "libguard/lg_compile.h"
#include "libguard/lg_leak.h"
#include "libguard/lg_scan.h"
#include "libguard/lg_redact.h"
#include "libguard/lg_ratelimit.h"
#include "libguard/lg_token.h"

#endif /* LIBGUARD_H */
