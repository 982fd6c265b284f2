#ifndef ELASTICKV_CSQLITE_SHIM_H
#define ELASTICKV_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
