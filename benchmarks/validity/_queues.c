/* Queue recursions for the validity grid (compiled on first use by sim.py; benchmark only). */
#include <stdint.h>
#include <math.h>

#define MAXC 64

/* FIFO c-server queue (Kiefer-Wolfowitz): arrival times t[i] (nondecreasing), service s[i];
   out[i] = completion - t[i].  R runs stored row-major; t_stride 0 shares one schedule. */
void kw_batch(int64_t R, int64_t n, int c, const double *t, int64_t t_stride,
              const double *s, double *out)
{
    for (int64_t r = 0; r < R; r++) {
        const double *tr = t + r * t_stride;
        const double *sr = s + r * n;
        double *o = out + r * n;
        double V[MAXC];
        for (int k = 0; k < c; k++) V[k] = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            double start = tr[i] > V[0] ? tr[i] : V[0];
            double done = start + sr[i];
            o[i] = done - tr[i];
            int j = 0;
            while (j + 1 < c && V[j + 1] < done) { V[j] = V[j + 1]; j++; }
            V[j] = done;
        }
    }
}

/* FIFO lanes on a machine with `cores` cores that thrashes: with m requests in service each one
   progresses at rate min(1, cores/m) / (1 + kappa * max(0, m - cores)).  State-dependent, so
   not monotone in the arrival times: smoothing the arrivals can make it faster. */
void thrash(int64_t n, int c, double cores, double kappa, const double *t, const double *s,
            double *out, double *start)
{
    double rem[MAXC];
    int64_t who[MAXC];
    int busy[MAXC];
    for (int k = 0; k < c; k++) busy[k] = 0;
    int m = 0;
    int64_t next_start = 0, arrived = 0, done = 0;
    double now = t[0];
    while (done < n) {
        /* start queued requests on free lanes */
        for (int k = 0; k < c && next_start < arrived; k++) {
            if (!busy[k]) {
                busy[k] = 1; rem[k] = s[next_start]; who[k] = next_start;
                if (start) start[next_start] = now;
                next_start++; m++;
            }
        }
        double rate = 0.0;
        if (m > 0) {
            double share = m > cores ? cores / m : 1.0;
            double pen = m > cores ? 1.0 + kappa * (m - cores) : 1.0;
            rate = share / pen;
        }
        double t_done = INFINITY; int kd = -1;
        for (int k = 0; k < c; k++) if (busy[k]) {
            double td = now + rem[k] / rate;
            if (td < t_done) { t_done = td; kd = k; }
        }
        double t_arr = arrived < n ? t[arrived] : INFINITY;
        double tnext = t_arr <= t_done ? t_arr : t_done;
        if (m > 0) for (int k = 0; k < c; k++) if (busy[k]) rem[k] -= rate * (tnext - now);
        now = tnext;
        if (t_arr <= t_done) {
            arrived++;
        } else {
            out[who[kd]] = now - t[who[kd]];
            busy[kd] = 0; m--; done++;
        }
    }
}

/* One run of the FIFO c-server queue that also says which server took each request (the
   plugin records the lane, and its replay needs it): lane[i] in 0..c-1 as a double. */
void kw_lanes(int64_t n, int c, const double *t, const double *s, double *out, double *lane)
{
    double V[MAXC];
    double id[MAXC];
    for (int k = 0; k < c; k++) { V[k] = -INFINITY; id[k] = k; }
    for (int64_t i = 0; i < n; i++) {
        double start = t[i] > V[0] ? t[i] : V[0];
        double done = start + s[i];
        double who = id[0];
        out[i] = done - t[i];
        lane[i] = who;
        int j = 0;
        while (j + 1 < c && V[j + 1] < done) { V[j] = V[j + 1]; id[j] = id[j + 1]; j++; }
        V[j] = done;
        id[j] = who;
    }
}
