// Lua 5.1 (Debian's liblua5.1-0-dev) and the two script libraries Redis ships that Debian packages:
// cjson (lua-cjson-dev) and bit (lua-bitop-dev). The include path comes from pkg-config (lua5.1).
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_cjson(lua_State *L);
int luaopen_bit(lua_State *L);
