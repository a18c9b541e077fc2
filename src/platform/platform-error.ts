import { ErrorCode, TsgunError } from '../errors.js';
import { ASSUMPTIONS, type Assumption } from './break-switch.js';

/** A Node release without something tsgun cannot do without: refuse to start, saying what. */
export class PlatformError extends TsgunError {
  constructor(readonly assumption: Assumption) {
    super(
      ErrorCode.PLATFORM,
      `Node ${process.version} breaks an assumption tsgun has no public fallback for: ${ASSUMPTIONS[assumption]} (docs/platform.md)`,
    );
  }
}
