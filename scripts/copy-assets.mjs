// Copies what the compiled server reads at run time besides JavaScript: the seat-map page's
// static files and the Postgres migrations (the proto files are read from ./proto).
import { cpSync } from 'node:fs';

for (const dir of ['gateway/page/static', 'persistence/migrations']) {
  cpSync(`src/${dir}`, `dist/${dir}`, { recursive: true });
}
