/**
 * The root component of the tab: the shared selection store around the tab.
 */
import { SelectionProvider } from "./state";
import { Tab } from "./Tab";

/** The root component. */
export function App() {
  return (
    <SelectionProvider>
      <Tab />
    </SelectionProvider>
  );
}
