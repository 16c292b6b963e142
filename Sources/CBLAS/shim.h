#ifndef INFTOP_CBLAS_SHIM_H
#define INFTOP_CBLAS_SHIM_H
/* Debian's libopenblas-dev puts cblas.h under /usr/include/x86_64-linux-gnu (alternatives). */
#include <cblas.h>
#endif
