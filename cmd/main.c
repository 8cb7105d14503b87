/*
 * main.c - the entry point of pfi; everything else is in pfi_main() so
 * that tests can run the whole program in process.
 */
#include "pfi.h"

int main(int argc, char **argv)
{
	return pfi_main(argc, argv);
}
