// The two script libraries Redis ships that Debian does not package for Lua 5.1: `struct` (binary packing)
// and `cmsgpack` (MessagePack). Each function sets its global table and returns 0; call it through
// lua_pushcfunction + lua_call.
#ifndef ELASTICKV_LUA_RUNTIME_LIBRARIES_H
#define ELASTICKV_LUA_RUNTIME_LIBRARIES_H

typedef struct lua_State lua_State;

int ekv_open_struct(lua_State *L);
int ekv_open_cmsgpack(lua_State *L);

#endif
