// The object that tests/support/precompiled.hpp is precompiled for; every test target reuses its PCH.
