/** Logging in and out, who am I (services/session.ts builds on these). */
import { IdentityApi } from '@heat-butler/shared';
import { client } from './client';

export const identityApi = client(IdentityApi);
