// Open MPI for the data-parallel training (`mpirun -np R inftop train --distributed`).
// MPI_COMM_WORLD, the datatypes and the ops are macros over Open MPI's globals, which Swift does
// not import: they are wrapped in the calls the training needs. All on MPI_COMM_WORLD with
// MPI_ERRORS_RETURN set by cmpi_init, so a failed call returns its code instead of aborting.
#pragma once
#include <mpi.h>
#include <string.h>

/// MPI_Init (no thread support needed: only the training thread calls MPI) and
/// MPI_ERRORS_RETURN on MPI_COMM_WORLD. Returns MPI_SUCCESS or the error code.
static inline int cmpi_init(void) {
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) return rc;
    return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static inline int cmpi_finalize(void) { return MPI_Finalize(); }
static inline int cmpi_rank(void) { int r = -1; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int cmpi_size(void) { int n = 0; MPI_Comm_size(MPI_COMM_WORLD, &n); return n; }
/// Sums `n` floats over all ranks, in place.
static inline int cmpi_allreduce_sum_float(float *buf, int n) {
    return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
/// Every rank's `n` doubles from `mine` into `all` (`n` × ranks, rank order).
static inline int cmpi_allgather_double(const double *mine, double *all, int n) {
    return MPI_Allgather(mine, n, MPI_DOUBLE, all, n, MPI_DOUBLE, MPI_COMM_WORLD);
}
static inline int cmpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline void cmpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
/// The text of an MPI error code into `out` (≥ MPI_MAX_ERROR_STRING bytes).
static inline void cmpi_error_string(int code, char *out, int capacity) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
    if (len >= capacity) len = capacity - 1;
    memcpy(out, text, (size_t)len);
    out[len] = 0;
}
static inline int cmpi_success(void) { return MPI_SUCCESS; }
