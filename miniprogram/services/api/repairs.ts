/** Repair tickets, callbacks, insights and temperature measurements. */
import { RepairsApi, MeasurementsApi } from '@heat-butler/shared';
import { client } from './client';

export const repairsApi = client(RepairsApi);
export const measurementsApi = client(MeasurementsApi);
