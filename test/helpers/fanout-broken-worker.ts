/** A fan-out worker module that fails as it loads (test/unit/fanout.test.ts). */
throw new Error("this worker cannot start");
