/**
 * Preloaded (`node --import`) into a BFF child process a test starts, so the child runs on the
 * same shifted clock as the test process that started it (HB_TEST_CLOCK_OFFSET, in ms). Without
 * it a child started under HB_TEST_NOW would sign and date everything on the machine's clock.
 */
import { installShiftedDate } from './clock';

const offset = Number(process.env.HB_TEST_CLOCK_OFFSET ?? 0);
if (offset) installShiftedDate(offset);
