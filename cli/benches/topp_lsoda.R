#!/usr/bin/env Rscript
# The `healthtwin bench topp` workload with deSolve's lsoda, for comparison.
#
# Same model, parameters, start, horizon and tolerances as `cli/src/bench.rs` (`topp`):
# full three-state Topp et al. (2000) model, TOPP_2000 base parameters, per patient
# SI0 = 0.72*LogNormal(0, 0.3), R0 = 864*LogNormal(0, 0.1), delta ~ Uniform(0, 0.2)/year,
# SI(t) = SI0*exp(-delta*t/365), start (G, I, beta) = (100, 10, 300), t in days over
# [0, 365*years], rtol 1e-6, atol 1e-9. The draws come from R's generator, not from
# healthtwin's Philox streams, so compare mean final glucose statistically.
#
# Runs lsoda without and with the analytic Jacobian (jactype "fullusr"), one core.
# Usage: Rscript cli/benches/topp_lsoda.R [patients=200] [years=30] [seed=1]
# Needs deSolve (Debian: apt-get install r-cran-desolve).

suppressPackageStartupMessages(library(deSolve))

args <- commandArgs(trailingOnly = TRUE)
patients <- if (length(args) >= 1) as.integer(args[1]) else 200L
years <- if (length(args) >= 2) as.integer(args[2]) else 30L
seed <- if (length(args) >= 3) as.integer(args[3]) else 1L

# Topp et al. 2000, Table 1 (models/src/diabetes/topp.rs, TOPP_2000).
EG0 <- 1.44; SIGMA <- 43.2; ALPHA <- 20000; K <- 432; D0 <- 0.06; R1 <- 0.84e-3; R2 <- 0.24e-5
START <- c(G = 100, I = 10, B = 300)
RTOL <- 1e-6; ATOL <- 1e-9

set.seed(seed)
si0 <- 0.72 * exp(0.3 * rnorm(patients))
r0 <- 864 * exp(0.1 * rnorm(patients))
delta <- 0.2 * runif(patients)

rhs <- function(t, y, p) {
  g <- y[1]; i <- y[2]; b <- y[3]
  si <- p[1] * exp(-p[3] * t / 365)
  g2 <- g * g
  list(c(p[2] - (EG0 + si * i) * g,
         b * SIGMA * g2 / (ALPHA + g2) - K * i,
         (-D0 + R1 * g - R2 * g2) * b))
}

jac <- function(t, y, p) {
  g <- y[1]; i <- y[2]; b <- y[3]
  si <- p[1] * exp(-p[3] * t / 365)
  g2 <- g * g
  den <- ALPHA + g2
  dsec <- SIGMA * 2 * g * ALPHA / (den * den)
  matrix(c(-(EG0 + si * i), b * dsec, (R1 - 2 * R2 * g) * b,
           -si * g, -K, 0,
           0, SIGMA * g2 / den, -D0 + R1 * g - R2 * g2), nrow = 3)
}

run <- function(with_jac) {
  finals <- numeric(patients)
  nfev <- 0
  t_end <- 365 * years
  t0 <- proc.time()[["elapsed"]]
  for (k in seq_len(patients)) {
    p <- c(si0[k], r0[k], delta[k])
    out <- if (with_jac) {
      lsoda(START, c(0, t_end), rhs, p, rtol = RTOL, atol = ATOL, jacfunc = jac,
            jactype = "fullusr", maxsteps = 100000)
    } else {
      lsoda(START, c(0, t_end), rhs, p, rtol = RTOL, atol = ATOL, maxsteps = 100000)
    }
    finals[k] <- out[2, "G"]
    nfev <- nfev + attr(out, "istate")[3]
  }
  wall <- proc.time()[["elapsed"]] - t0
  s <- sd(finals)
  cat(sprintf("  %-12s %8.3f s  %9.1f patients/s  mean final glucose %.10f (sd %.4f, se %.4f)  share >= 126 %.4f  %.0f rhs evals/patient\n",
              if (with_jac) "lsoda+jac" else "lsoda", wall, patients / wall, mean(finals), s,
              s / sqrt(patients), mean(finals >= 126), nfev / patients))
}

cat(sprintf("topp_lsoda.R: %d patients x %d years, 1 core, rtol %g atol %g, deSolve %s\n",
            patients, years, RTOL, ATOL, as.character(packageVersion("deSolve"))))
run(FALSE)
run(TRUE)
