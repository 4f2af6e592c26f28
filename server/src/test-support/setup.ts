import 'reflect-metadata';
import { installShiftedDate, testClockOffset } from './clock';

installShiftedDate(testClockOffset());
