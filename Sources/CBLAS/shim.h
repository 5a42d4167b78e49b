// OpenBLAS through its CBLAS interface, plus the few LAPACK and OpenBLAS
// entry points we call. Debian's build ships no LAPACKE, so the Fortran
// symbols are declared here by hand (all arguments by pointer).
#ifndef INFINIGEN_CBLAS_SHIM_H
#define INFINIGEN_CBLAS_SHIM_H
#include <cblas.h>
// mallopt, for keeping large freed blocks in the heap (see Numerics/Allocator.swift).
#include <malloc.h>

char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

// LAPACK: divide-and-conquer SVD and symmetric eigen decomposition.
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda,
             float *s, float *u, const int *ldu, float *vt, const int *ldvt,
             float *work, const int *lwork, int *iwork, int *info);
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
             float *w, float *work, const int *lwork, int *iwork, const int *liwork, int *info);
#endif
