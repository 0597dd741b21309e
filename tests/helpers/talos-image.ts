/** The Image Factory installer image the test clusters run: one schematic (qemu-guest-agent), any Talos version. */
import { installerImage } from "../../components/talos/schematic";

/** The schematic id of the qemu-guest-agent extension alone (as the sample stack's). */
export const SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";

/** `factory.talos.dev/nocloud-installer/<schematic>:v<talos>`. */
export const image = (talos: string, schematic = SCHEMATIC): string =>
  installerImage("factory.talos.dev", schematic, talos, "nocloud");
