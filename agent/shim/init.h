/* `grove-shim init`: PID 1 of a container that asks for an init (see init.c). */
#ifndef GROVE_INIT_H
#define GROVE_INIT_H

int init_main(int argc, char **argv);

#endif
