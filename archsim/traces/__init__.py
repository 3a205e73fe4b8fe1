"""Program traces for the trace-driven simulators: memory traces of native programs (valgrind's lackey) and
dynamic instruction traces of RISC-V programs, from one fixed program set."""
