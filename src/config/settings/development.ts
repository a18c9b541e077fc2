/** The settings of the Development and Debugging sections: --reload, --check-config... */
import { bool, list, string } from '../parsers.js';
import { setting } from '../spec.js';

export const DEVELOPMENT_SETTINGS = {
  reload: setting({
    section: 'Development',
    flags: ['--reload'],
    default: false,
    parse: bool,
    help: "Rolling reload when a file under the app's directory changes (debounced). For development.",
    hup: false,
  }),
  reloadExtraFile: setting({
    section: 'Development',
    flags: ['--reload-extra-file'],
    arg: 'GLOB',
    repeatable: true,
    default: [],
    parse: list(string),
    help: 'Also reload when these change (repeatable; *, ** and ? globs).',
    hup: false,
  }),
};

export const DEBUG_SETTINGS = {
  checkConfig: setting({
    section: 'Debugging',
    flags: ['--check-config'],
    cliOnly: true,
    default: false,
    parse: bool,
    help: 'Check the settings and that the app loads, list every problem, exit 0 or 2/4.',
    hup: false,
  }),
  printConfig: setting({
    section: 'Debugging',
    flags: ['--print-config'],
    cliOnly: true,
    default: false,
    parse: bool,
    help: 'Print the resolved settings and where each came from, then exit.',
    hup: false,
  }),
};
