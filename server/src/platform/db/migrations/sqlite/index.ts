// Kept by `npm run db:generate`: the committed migrations, oldest first.
import { Foundation1795530466707 } from './1795530466707-Foundation';

export const migrations: Function[] = [Foundation1795530466707];
