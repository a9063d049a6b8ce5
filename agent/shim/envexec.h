/* `grove-shim env-exec`: Secret variables from a tmpfs file, then exec (see envexec.c). */
#ifndef GROVE_ENVEXEC_H
#define GROVE_ENVEXEC_H

int envexec_main(int argc, char **argv);

#endif
